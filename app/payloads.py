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


def votes(details: dict, digit: int, projection: dict, field: dict, saliency: np.ndarray) -> dict:
    """The votes for digit capsule `digit` in 2-D, per iteration; agreement; evidence and saliency maps."""
    from model.receptive_field import spread_over_fields
    from model.votes import agreement, evidence, project

    u_hat, coupling, digit_caps = (details["prediction_vectors"], details["routing_coupling"],
                                   details["routing_digit_caps"])
    per_position = evidence(u_hat, coupling[-1], digit_caps[-1], digit, tuple(field["grid"]))
    return {
        "digit": digit,
        "points": as_list(project(u_hat[:, digit], projection)),
        "coupling": as_list(coupling[:, :, digit]),
        "primary_lengths": as_list(details["primary_caps_lengths"]),
        "digit_caps": as_list(project(digit_caps[:, digit], projection)),
        "agreement": as_list([agreement(u_hat, c, v) for c, v in zip(coupling, digit_caps)]),
        "lengths": as_list(np.linalg.norm(digit_caps, axis=-1)),
        "evidence": as_list(spread_over_fields(per_position, field["size"], field["stride"], field["input_side"])),
        "saliency": as_list(saliency),
        "projection": {"method": "PCA", "images": projection["images"],
                       "explained_variance_ratio": projection["explained_variance_ratio"]},
        "receptive_field": field,
    }


def capsule_math(details: dict, transform: np.ndarray, capsule: int, digit: int) -> dict:
    """The numbers behind one primary capsule i and one digit capsule j, each as the network
    computed it (from the forward pass; only s_j and the loss are summed here, in float64)."""
    from model.losses import LAMBDA, M_MINUS, M_PLUS

    u_hat = details["prediction_vectors"]  # (1152, 10, 16)
    couplings, logits, digit_caps = details["routing_coupling"], details["routing_logits"], details["routing_digit_caps"]
    dims = u_hat.shape[-1]
    s_i, u_i = details["primary_caps_pre_squash"][capsule], details["primary_caps"][capsule]
    iterations = []
    for b, c, v in zip(logits, couplings, digit_caps):
        s_j = np.einsum("i,id->d", c[:, digit].astype(np.float64), u_hat[:, digit].astype(np.float64))
        iterations.append({"b": as_list(b[capsule]), "c": as_list(c[capsule]), "s_j": as_list(s_j),
                           "s_j_length": float(np.linalg.norm(s_j)), "v_j": as_list(v[digit]),
                           "v_j_length": float(np.linalg.norm(v[digit])),
                           "agreement": float(u_hat[capsule, digit] @ v[digit])})
    lengths = details["lengths"].astype(np.float64)
    present = np.eye(len(lengths))[int(np.argmax(lengths))]  # the current answer taken as the label
    loss = present * np.maximum(M_PLUS - lengths, 0) ** 2 + LAMBDA * (1 - present) * np.maximum(lengths - M_MINUS, 0) ** 2
    return {
        "capsule": capsule, "digit": digit,
        "s_i": as_list(s_i), "s_i_length": float(np.linalg.norm(s_i)),
        "u_i": as_list(u_i), "u_i_length": float(np.linalg.norm(u_i)),
        "W_ij": as_list(transform[capsule][:, digit * dims:(digit + 1) * dims]),  # 8 x 16
        "u_hat": as_list(u_hat[capsule, digit]), "u_hat_length": float(np.linalg.norm(u_hat[capsule, digit])),
        "iterations": iterations,
        "margin_loss": {"m_plus": M_PLUS, "m_minus": M_MINUS, "lambda": LAMBDA, "lengths": as_list(lengths),
                        "present": as_list(present), "per_digit": as_list(loss), "total": float(loss.sum())},
    }
