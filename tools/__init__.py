"""Developer tools that are neither the product nor its tests: the README's screenshot."""
