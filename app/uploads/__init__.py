"""An uploaded image to the network's input: decoded within a memory budget, then made like MNIST."""

