"""The service layer: what may be done to images, and doing it."""
