"""Conversions tf2onnx lacks for the gradient ops of the saliency graph (static_site/export.py),
registered with its handler table on import: each is written with plain ONNX operators."""
from __future__ import annotations

import numpy as np
from tf2onnx import utils
from tf2onnx.handler import tf_op


@tf_op("SqrtGrad")
class SqrtGrad:
    """d sqrt(x) / dx = 1 / (2 sqrt(x)): dy / (y + y)."""
    @classmethod
    def version_1(cls, ctx, node, **kwargs):
        y, dy = node.input
        twice = ctx.make_node("Add", [y, y], name=utils.make_name(node.name)).output[0]
        node.type = "Div"
        ctx.replace_inputs(node, [dy, twice])


@tf_op("ReluGrad")
class ReluGrad:
    """The gradient where the unit was active, else 0."""
    @classmethod
    def version_1(cls, ctx, node, **kwargs):
        gradients, features = node.input
        dtype = ctx.get_dtype(features)
        zero = ctx.make_const(utils.make_name("zero"), np.zeros((), utils.map_onnx_to_numpy_type(dtype))).output[0]
        active = ctx.make_node("Greater", [features, zero], name=utils.make_name(node.name)).output[0]
        mask = ctx.make_node("Cast", [active], attr={"to": dtype}, name=utils.make_name(node.name)).output[0]
        node.type = "Mul"
        ctx.replace_inputs(node, [gradients, mask])


@tf_op("ShapeN")
class ShapeN:
    """The shapes of several tensors at once (a convolution's gradient asks for two): one Shape each."""
    @classmethod
    def version_1(cls, ctx, node, **kwargs):
        inputs, outputs = list(node.input), list(node.output)
        dtype = ctx.get_dtype(outputs[0])
        shapes = [ctx.get_shape(o) for o in outputs]
        ctx.remove_node(node.name)
        for inp, out, shape in zip(inputs, outputs, shapes):
            shape_node = ctx.make_node("Shape", [inp], name=utils.make_name("shape"))
            ctx.make_node("Cast", [shape_node.output[0]], attr={"to": dtype}, outputs=[out], shapes=[shape],
                          dtypes=[dtype], name=utils.make_name("cast"))
