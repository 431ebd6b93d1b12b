"""The paper's loss: margin loss on capsule lengths plus a small reconstruction loss."""
from __future__ import annotations

from keras import ops

M_PLUS, M_MINUS, LAMBDA = 0.9, 0.1, 0.5
RECONSTRUCTION_WEIGHT = 0.0005


def margin_loss(labels, lengths, m_plus: float = M_PLUS, m_minus: float = M_MINUS,
                down_weight: float = LAMBDA):
    """Eq. 4 summed over the 10 digit capsules, averaged over the batch. `labels`: each example's
    class (batch,), or a multi-hot (batch, 10) of the classes present (several digits at once)."""
    if len(ops.shape(labels)) == len(ops.shape(lengths)):
        present = ops.cast(labels, lengths.dtype)
    else:
        present = ops.one_hot(ops.cast(labels, "int32"), ops.shape(lengths)[-1])
    loss = (present * ops.square(ops.relu(m_plus - lengths))
            + down_weight * (1.0 - present) * ops.square(ops.relu(lengths - m_minus)))
    return ops.mean(ops.sum(loss, axis=-1))


def reconstruction_loss(images, reconstructions, weight: float = RECONSTRUCTION_WEIGHT):
    """weight x the sum of squared pixel errors, averaged over the batch."""
    squared = ops.square(ops.reshape(images, (ops.shape(images)[0], -1))
                         - ops.reshape(reconstructions, (ops.shape(reconstructions)[0], -1)))
    return weight * ops.mean(ops.sum(squared, axis=-1))
