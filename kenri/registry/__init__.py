"""The registry: rights holders, works, characters, names, descriptions, reference media."""
