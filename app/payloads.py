"""An analysis (numpy arrays from the model) -> the JSON parts the API returns."""
from __future__ import annotations

import numpy as np

from app.encoding import as_list, quantize

PRIMARY_GRID = (6, 6, 32)  # the model orders its 1152 capsules (row, col, type)


def by_capsule_type(per_capsule: np.ndarray) -> np.ndarray:
    """(1152, ...) -> (32, 6, 6, ...): one 6x6 grid per capsule type, as the page draws them."""
    grid = per_capsule.reshape(*PRIMARY_GRID, *per_capsule.shape[1:])
    return np.moveaxis(grid, 2, 0)


def conv1_part(analysis: dict) -> dict:
    return {"conv1": quantize(np.transpose(analysis["conv1"], (2, 0, 1)))}  # (256, 20, 20)


def primary_caps_part(analysis: dict) -> dict:
    pre_squash_lengths = np.linalg.norm(analysis["primary_caps_pre_squash"], axis=-1)  # |s_i|
    return {"primary_caps": {
        "lengths": as_list(by_capsule_type(analysis["primary_caps_lengths"])),
        "pre_squash_lengths": as_list(by_capsule_type(pre_squash_lengths)),
        "vectors": quantize(by_capsule_type(analysis["primary_caps"])),
    }}


def routing_part(analysis: dict) -> dict:
    return {"routing": {"iterations": [
        {"coupling": quantize(by_capsule_type(coupling)), "lengths": as_list(lengths)}
        for coupling, lengths in zip(analysis["routing_coupling"], analysis["routing_lengths"])
    ]}}


def digit_caps_part(analysis: dict) -> dict:
    return {"digit_caps": {"vectors": as_list(analysis["digit_caps"]),
                           "lengths": as_list(analysis["lengths"])},
            "prediction": int(analysis["prediction"])}


def reconstruction_part(analysis: dict) -> dict:
    return {"reconstruction": as_list(analysis["reconstruction"][..., 0]),
            "prediction": int(analysis["prediction"])}


def full_analysis(analysis: dict) -> dict:
    return {"input": as_list(analysis["input"]), **conv1_part(analysis),
            **primary_caps_part(analysis), **routing_part(analysis),
            **digit_caps_part(analysis), **reconstruction_part(analysis)}


def comparison(image: np.ndarray, capsnet: dict, cnn: dict) -> dict:
    """Both models' answers for one input (batch of one)."""
    return {"input": as_list(image),
            "capsnet": {"prediction": int(capsnet["prediction"][0]), "lengths": as_list(capsnet["lengths"][0]),
                        "vectors": as_list(capsnet["digit_caps"][0])},
            "cnn": {"prediction": int(cnn["prediction"][0]), "probabilities": as_list(cnn["probabilities"][0])}}


def transform_sweep(parameter: str, values: list[float], digit: int, images: np.ndarray,
                    capsnet: dict, cnn: dict) -> dict:
    """One step per value: the transformed input and both models' answers."""
    return {"parameter": parameter, "values": as_list(values), "digit": digit, "steps": [
        {"input": as_list(image), "capsnet_lengths": as_list(lengths), "capsule": as_list(vectors[digit]),
         "cnn_probabilities": as_list(probabilities)}
        for image, lengths, vectors, probabilities
        in zip(images, capsnet["lengths"], capsnet["digit_caps"], cnn["probabilities"])]}
