"""An analysis (numpy arrays from the model) -> the JSON parts the API returns."""
from __future__ import annotations

import numpy as np

from app.http.encoding import quantize, rounded
from model.agreement import agreement, evidence, project
from model.losses import LAMBDA, M_MINUS, M_PLUS
from model.receptive_field import spread_over_fields
from model.routing_share import Grid, coupling_shares, position_shares


def on_grid(per_capsule: np.ndarray, grid: Grid) -> np.ndarray:
    """(1152, ...) -> (6, 6, 32, ...): the model's own order of the primary capsules, (row, column,
    type), with the grid made explicit (docs/api.md#order-of-the-primary-capsules)."""
    return per_capsule.reshape(*grid, *per_capsule.shape[1:])


def conv1_part(analysis: dict) -> dict:
    return {"conv1": quantize(np.transpose(analysis["conv1"], (2, 0, 1)))}  # (256, 20, 20)


def primary_caps_part(analysis: dict, grid: Grid) -> dict:
    pre_squash_lengths = np.linalg.norm(analysis["primary_caps_pre_squash"], axis=-1)  # |s_i|
    return {"primary_caps": {
        "lengths": rounded(on_grid(analysis["primary_caps_lengths"], grid)),
        "pre_squash_lengths": rounded(on_grid(pre_squash_lengths, grid)),
        "vectors": quantize(on_grid(analysis["primary_caps"], grid)),
    }}


def routing_part(analysis: dict, grid: Grid) -> dict:
    return {"routing": {"iterations": [
        {"coupling": quantize(on_grid(coupling, grid)), "lengths": rounded(lengths)}
        for coupling, lengths in zip(analysis["routing_coupling"], analysis["routing_lengths"])
    ]}}


def digit_caps_part(analysis: dict) -> dict:
    return {"digit_caps": {"vectors": rounded(analysis["digit_caps"]),
                           "lengths": rounded(analysis["lengths"])},
            "prediction": int(analysis["prediction"])}


def reconstruction_part(analysis: dict) -> dict:
    return {"reconstruction": rounded(analysis["reconstruction"][..., 0]),
            "prediction": int(analysis["prediction"])}


def full_analysis(analysis: dict, grid: Grid) -> dict:
    return {"input": rounded(analysis["input"]), **conv1_part(analysis),
            **primary_caps_part(analysis, grid), **routing_part(analysis, grid),
            **digit_caps_part(analysis), **reconstruction_part(analysis)}


def pair_analysis(analysis: dict, grid: Grid, field: dict) -> dict:
    """MultiMNIST: the two longest capsules, and each of their digits redrawn from its own capsule."""
    a, b = analysis["reconstructions"][..., 0]
    return {"input": rounded(analysis["input"]), "lengths": rounded(analysis["lengths"]),
            "top2": [int(digit) for digit in analysis["pair"]], "digit_caps": rounded(analysis["digit_caps"]),
            "reconstructions": {"a": rounded(a), "b": rounded(b)}, **routing_part(analysis, grid),
            **routing_shares_part(analysis, grid, field)}


def routing_shares_part(analysis: dict, grid: Grid, field: dict) -> dict:
    """Per iteration: the length-weighted share of the votes to each digit, and to each of the two
    chosen ones per grid position, in full precision (the quantised couplings are too coarse);
    with the capsules' receptive field, to place the grid on the input."""
    weights, (a, b) = analysis["primary_caps_lengths"], analysis["pair"]
    iterations = []
    for coupling in analysis["routing_coupling"]:
        positions = position_shares(coupling, weights, grid)
        iterations.append({"overall": rounded(coupling_shares(coupling, weights)),
                           "a": rounded(positions[..., a]), "b": rounded(positions[..., b])})
    return {"routing_shares": {"iterations": iterations, "receptive_field": field}}


def comparison(image: np.ndarray, capsnet: dict, cnn: dict) -> dict:
    """Both models' answers for one input (batch of one)."""
    return {"input": rounded(image),
            "capsnet": {"prediction": int(capsnet["prediction"][0]), "lengths": rounded(capsnet["lengths"][0]),
                        "vectors": rounded(capsnet["digit_caps"][0])},
            "cnn": {"prediction": int(cnn["prediction"][0]), "probabilities": rounded(cnn["probabilities"][0])}}


def transform_sweep(parameter: str, values: list[float], digit: int, images: np.ndarray,
                    capsnet: dict, cnn: dict) -> dict:
    """One step per value: the transformed input and both models' answers."""
    return {"parameter": parameter, "values": rounded(values), "digit": digit, "steps": [
        {"input": rounded(image), "capsnet_lengths": rounded(lengths), "capsule": rounded(vectors[digit]),
         "cnn_probabilities": rounded(probabilities)}
        for image, lengths, vectors, probabilities
        in zip(images, capsnet["lengths"], capsnet["digit_caps"], cnn["probabilities"])]}


def votes(details: dict, digit: int, projection: dict, field: dict, saliency: np.ndarray) -> dict:
    """The votes for digit capsule `digit` in 2-D, per iteration; agreement; evidence and saliency maps."""
    u_hat, coupling, digit_caps = (details["prediction_vectors"], details["routing_coupling"],
                                   details["routing_digit_caps"])
    per_position = evidence(u_hat, coupling[-1], digit_caps[-1], digit, tuple(field["grid"]))
    return {
        "digit": digit,
        "points": rounded(project(u_hat[:, digit], projection)),
        "coupling": rounded(coupling[:, :, digit]),
        "primary_lengths": rounded(details["primary_caps_lengths"]),
        "digit_caps": rounded(project(digit_caps[:, digit], projection)),
        "agreement": rounded([agreement(u_hat, c, v) for c, v in zip(coupling, digit_caps)]),
        "lengths": rounded(np.linalg.norm(digit_caps, axis=-1)),
        "evidence": rounded(spread_over_fields(per_position, field["size"], field["stride"], field["input_side"])),
        "saliency": rounded(saliency),
        "projection": {"method": "PCA", "images": projection["images"],
                       "explained_variance_ratio": projection["explained_variance_ratio"]},
        "receptive_field": field,
    }


def capsule_math(details: dict, transform: np.ndarray, capsule: int, digit: int) -> dict:
    """The numbers behind one primary capsule i and one digit capsule j, each as the network
    computed it (from the forward pass; only s_j and the loss are summed here, in float64)."""
    u_hat = details["prediction_vectors"]  # (1152, 10, 16)
    couplings, logits, digit_caps = details["routing_coupling"], details["routing_logits"], details["routing_digit_caps"]
    dims = u_hat.shape[-1]
    s_i, u_i = details["primary_caps_pre_squash"][capsule], details["primary_caps"][capsule]
    iterations = []
    for b, c, v in zip(logits, couplings, digit_caps):
        s_j = np.einsum("i,id->d", c[:, digit].astype(np.float64), u_hat[:, digit].astype(np.float64))
        iterations.append({"b": rounded(b[capsule]), "c": rounded(c[capsule]), "s_j": rounded(s_j),
                           "s_j_length": float(np.linalg.norm(s_j)), "v_j": rounded(v[digit]),
                           "v_j_length": float(np.linalg.norm(v[digit])),
                           "agreement": float(u_hat[capsule, digit] @ v[digit])})
    lengths = details["lengths"].astype(np.float64)
    present = np.eye(len(lengths))[int(np.argmax(lengths))]  # the current answer taken as the label
    loss = present * np.maximum(M_PLUS - lengths, 0) ** 2 + LAMBDA * (1 - present) * np.maximum(lengths - M_MINUS, 0) ** 2
    return {
        "capsule": capsule, "digit": digit,
        "s_i": rounded(s_i), "s_i_length": float(np.linalg.norm(s_i)),
        "u_i": rounded(u_i), "u_i_length": float(np.linalg.norm(u_i)),
        "W_ij": rounded(transform[capsule][:, digit * dims:(digit + 1) * dims]),  # 8 x 16
        "u_hat": rounded(u_hat[capsule, digit]), "u_hat_length": float(np.linalg.norm(u_hat[capsule, digit])),
        "iterations": iterations,
        "margin_loss": {"m_plus": M_PLUS, "m_minus": M_MINUS, "lambda": LAMBDA, "lengths": rounded(lengths),
                        "present": rounded(present), "per_digit": rounded(loss), "total": float(loss.sum())},
    }
