"""Lab-value flags shared by the commands that read one sample's labs from flags.

`mgckd assess`, `mgckd speciate` and `mgckd t50 simulate` declare these options the same way;
each alias is one option: its flags, the example in its help and the unit check of `lab_option`.
"""

from __future__ import annotations

from typing import Annotated

from mgckd.cli._console import lab_option

CalciumFlag = Annotated[str | None, lab_option("9.2 mg/dL", "--ca", "--calcium")]
MagnesiumFlag = Annotated[str | None, lab_option("2.1 mg/dL", "--mg", "--magnesium")]
PhosphateFlag = Annotated[str | None, lab_option("4.5 mg/dL", "--phosphate", "--pi")]
AlbuminFlag = Annotated[str | None, lab_option("4.0 g/dL", "--albumin")]
PhFlag = Annotated[str | None, lab_option("7.38", "--ph")]
BicarbonateFlag = Annotated[str | None, lab_option("24 mmol/L", "--bicarbonate", "--hco3")]
Pco2Flag = Annotated[str | None, lab_option("40 mmHg", "--pco2")]
SodiumFlag = Annotated[str | None, lab_option("140 mmol/L", "--sodium", "--na")]
PotassiumFlag = Annotated[str | None, lab_option("4.5 mmol/L", "--potassium", "--k")]
ChlorideFlag = Annotated[str | None, lab_option("104 mmol/L", "--chloride", "--cl")]
SulfateFlag = Annotated[str | None, lab_option("0.5 mmol/L", "--sulfate")]
CitrateFlag = Annotated[str | None, lab_option("0.1 mmol/L", "--citrate")]
LactateFlag = Annotated[str | None, lab_option("1.0 mmol/L", "--lactate")]
