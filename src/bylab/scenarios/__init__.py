"""City simulation: what-if scenarios that project indicators forward with uncertainty."""
