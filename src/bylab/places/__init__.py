"""Places: municipalities, counties and regions with official codes, boundaries and history."""
