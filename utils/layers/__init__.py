"""CNN layers written from scratch in numpy, checked equal to Keras in the tests.

Each layer is a pure function on arrays in Keras's channels-last layout
(``(batch, height, width, channels)`` or a single ``(height, width, channels)`` image).
"""
