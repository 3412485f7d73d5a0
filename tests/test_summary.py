"""alexnetbook.summary 의 테스트: torchinfo 요약표의 단위 표기(torchinfo 이슈 #350)를 고치는지."""

from __future__ import annotations

import re

import pytest
import torch
from torchinfo.enums import Units

from alexnetbook.models import AlexNet
from alexnetbook.summary import fix_torchinfo_units, model_summary


def test_fix_replaces_enum_names_with_values():
    text = "Total mult-adds (Units.MEGABYTES): 24.08\nTotal mult-adds (Units.GIGABYTES): 1.14"
    assert fix_torchinfo_units(text) == "Total mult-adds (M): 24.08\nTotal mult-adds (G): 1.14"
    assert fix_torchinfo_units("Units.UNKNOWN stays") == "Units.UNKNOWN stays"
    assert fix_torchinfo_units("nothing") == "nothing"
    assert Units.MEGABYTES.value == "M"


@pytest.mark.parametrize(("groups", "total"), [(1, "62,378,344"), (2, "60,965,224")])
def test_model_summary_has_clean_footer_and_layer_names(groups, total):
    with torch.device("meta"):
        model = AlexNet(groups=groups)
    text = model_summary(model, (1, 3, 224, 224), device="meta")
    assert "Units." not in text
    assert re.search(r"Total mult-adds \([MGT]\): [\d.]+", text)
    assert f"Total params: {total}" in text
    assert "Conv2d (conv1)" in text and "[1, 96, 55, 55]" in text


def test_model_summary_rejects_bad_input_size():
    with pytest.raises(ValueError, match="input_size"):
        model_summary(AlexNet.for_cifar(), (1, 3, 32.0, 32))
