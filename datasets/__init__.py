"""The data the networks see: MNIST, MultiMNIST's pairs, the input transforms; the page's gallery and the tests' sample."""
