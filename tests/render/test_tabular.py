"""Helpers of the tabular rendering."""

import numpy as np

from integrad.render.tabular import format_value


def test_values_read_short():
    assert format_value(np.float64(0.000123456)) == "0.0001235"
    assert format_value(1234567.0) == "1.235e+06"
    assert format_value(3) == "3" and format_value("red") == "red"
