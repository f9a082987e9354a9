"""Hemodialysis in the one model definition: `with_dialysis(model)` adds the session switch, the
dialyzer (one flux per element whose ECF species the model has), ultrafiltration and the
interdialytic fluid gain to any `mgckd.model.Model` that has an extracellular Mg, Ca or phosphate
species.

The dialyzer's diffusive clearance of each element follows from the blood (plasma water) and
dialysate flows and the dialyzer's mass-transfer area coefficient KoA by the countercurrent
formula of Michaels (1966); convection adds to it; the driving gradient is the dialyzable plasma
concentration (the dialyzable fraction times the current ECF concentration) minus the dialysate
concentration. For Mg and Ca the dialyzable fraction is the ionized plus the small-ligand
complexed fraction of `mgckd.chemistry`: what is bound to albumin or to the lumped uremic anion
stays in the blood over a session (docs/dialysis.md#the-dialyzable-fraction). docs/dialysis.md
gives the equations and their sources.

>>> from mgckd.physiology import magnesium_model
>>> model = with_dialysis(magnesium_model())
>>> [f.name for f in model.fluxes if f.name.endswith("_dialyzer")]
['mg_dialyzer']
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import pandas as pd
import sympy
from numpy.typing import NDArray

from mgckd._pint import quantity
from mgckd.chemistry import reference_plasma, speciate
from mgckd.exceptions import ModelDefinitionError
from mgckd.model import Flux, Model, Param, Rule, Species, sym
from mgckd.params import parameters

SWITCH = "dialysis_on"
"""The session switch parameter: 0 between sessions, 1 while one runs (set by windows)."""
ULTRAFILTRATION = "ultrafiltration_l_h"
"""Net ultrafiltration rate while a session runs (set by windows, one value per session)."""
FLUID_GAIN = "fluid_gain_l_h"
"""Interdialytic fluid gain (a constant rate in; ultrafiltration takes it out again)."""
SUBSTITUTION = "substitution_flow_l_h"
"""Post-dilution substitution flow while a session runs (hemodiafiltration; 0 for HD)."""
EXCESS_WATER = "ecf_excess_water_l"
"""The species holding the fluid above dry weight in the ECF, litres."""
CURRENT_VOLUME = "ecf_volume_current_l"
DILUTION = "ecf_dilution"


@dataclass(frozen=True, slots=True)
class DialyzedElement:
    """How the dialyzer treats one element.

    Attributes
    ----------
    element : ``"Mg"``, ``"Ca"`` or ``"P"``.
    short : the name stem (``mg``, ``ca``, ``pi``).
    ecf : the ECF species of the model.
    dialyzable : the fraction of the plasma total the dialyzer sees (parameter or rule):
        ``with_dialysis`` declares it from `chemistry` where that is given, else the model has it.
    plasma_total : the model's rule of the total plasma concentration (mmol/L).
    dialysate_default : registry name of the default dialysate concentration.
    diffusion : registry name of its diffusion coefficient (scales the dialyzer KoA).
    chemistry : the `mgckd.chemistry.speciate` fractions whose sum is the dialyzable fraction
        (empty: the model's own fraction is used).
    """

    element: str
    short: str
    ecf: str
    dialyzable: str
    plasma_total: str
    dialysate_default: str
    diffusion: str
    chemistry: tuple[str, ...] = ()

    @property
    def dialysate(self) -> str:
        """The dialysate concentration parameter, mmol/L."""
        return f"dialysate_{self.short}_mmol_l"

    @property
    def koa(self) -> str:
        """The dialyzer's mass-transfer area coefficient for this element, L/h."""
        return f"dialyzer_koa_{self.short}_l_h"

    @property
    def flux(self) -> str:
        """The dialyzer flux (out of the ECF; negative when the dialysate gives)."""
        return f"{self.short}_dialyzer"

    @property
    def diffusive_clearance(self) -> str:
        """Rule: diffusive dialyzer clearance (Michaels), L/h."""
        return f"dialyzer_{self.short}_diffusive_clearance_l_h"

    @property
    def clearance(self) -> str:
        """Rule: diffusive plus convective dialyzer clearance, L/h."""
        return f"dialyzer_{self.short}_clearance_l_h"

    @property
    def dialyzable_concentration(self) -> str:
        """Rule: dialyzable plasma concentration at the current ECF volume, mmol/L."""
        return f"plasma_{self.short}_dialyzable_mmol_l"


ELEMENTS = (
    DialyzedElement(
        "Mg",
        "mg",
        "mg_ecf",
        "mg_dialyzable_fraction",
        "plasma_mg_total_mmol_l",
        "dialysate_mg_reference_mmol_l",
        "diffusion_coefficient_mg_ion",
        ("mg_ionized_fraction", "mg_complexed_fraction"),
    ),
    DialyzedElement(
        "Ca",
        "ca",
        "ca_ecf",
        "ca_dialyzable_fraction",
        "plasma_ca_total_mmol_l",
        "dialysate_ca_reference_mmol_l",
        "diffusion_coefficient_ca_ion",
        ("ca_ionized_fraction", "ca_complexed_fraction"),
    ),
    DialyzedElement(
        "P",
        "pi",
        "pi_ecf",
        "pi_ultrafilterable_fraction",
        "plasma_pi_mmol_l",
        "dialysate_phosphate_mmol_l",
        "diffusion_coefficient_hydrogen_phosphate",
    ),
)
"""Every element the dialyzer can act on; `with_dialysis` uses those whose ECF species exist."""

_PHOSPHATE = ELEMENTS[2]


def dialyzed_elements(model: Model) -> tuple[DialyzedElement, ...]:
    """The elements of `ELEMENTS` whose ECF species `model` declares."""
    names = set(model.species_names)
    return tuple(e for e in ELEMENTS if e.ecf in names)


def michaels_clearance(
    koa: sympy.Expr, plasma_flow: sympy.Expr, dialysate_flow: sympy.Expr
) -> sympy.Expr:
    """Countercurrent diffusive clearance (Michaels 1966), same units as the flows.

    K = Q_p (e^z − 1) / (e^z − Q_p/Q_d), z = KoA/Q_p · (1 − Q_p/Q_d); valid for Q_p < Q_d
    (the prescription guarantees it).
    """
    ratio = plasma_flow / dialysate_flow
    z = koa / plasma_flow * (1 - ratio)
    return plasma_flow * (sympy.exp(z) - 1) / (sympy.exp(z) - ratio)


def koa_from_clearance(clearance: float, plasma_flow: float, dialysate_flow: float) -> float:
    """KoA (units of the flows) that gives diffusive `clearance` at these flows: Michaels' formula
    solved for KoA, KoA = Q_p/(1 − r) · ln((Q_p − K r)/(Q_p − K)), r = Q_p/Q_d.

    >>> k = koa_from_clearance(160.0, 200.0, 500.0)
    >>> round(float(michaels_clearance(k, 200.0, 500.0)), 6)
    160.0
    """
    ratio = plasma_flow / dialysate_flow
    if not 0.0 < clearance < plasma_flow or ratio >= 1.0:
        raise ModelDefinitionError(
            f"a diffusive clearance of {clearance:g} needs 0 < K < Q_p = {plasma_flow:g} and "
            f"Q_p < Q_d = {dialysate_flow:g}"
        )
    return float(
        plasma_flow
        / (1.0 - ratio)
        * np.log((plasma_flow - clearance * ratio) / (plasma_flow - clearance))
    )


def dialyzable_fractions(frame: pd.DataFrame) -> dict[str, NDArray[np.float64]]:
    """The dialyzable fraction of each element that has `chemistry`, per sample of a
    `mgckd.chemistry.speciate` frame: the sum of its ionized and complexed fractions."""
    return {
        e.dialyzable: np.sum([frame[c].to_numpy(dtype=np.float64) for c in e.chemistry], axis=0)
        for e in ELEMENTS
        if e.chemistry
    }


@cache
def reference_dialyzable_fraction(element: str) -> float:
    """The dialyzable fraction of `element` (``Mg``, ``Ca``) in the reference hemodialysis
    plasma: the default of the parameter ``with_dialysis`` declares.

    >>> round(reference_dialyzable_fraction("Mg"), 3)
    0.698
    """
    frame = speciate(reference_plasma("hemodialysis")).to_frame()
    (found,) = (e for e in ELEMENTS if e.element == element)
    return float(dialyzable_fractions(frame)[found.dialyzable][0])


def _reference_plasma_flow_ml_min() -> float:
    registry = parameters()
    blood = registry["dialysis_blood_flow_reference_ml_min"].to("mL/min")
    hematocrit = registry["hematocrit_hemodialysis_reference"].to("1")
    return blood * (1.0 - hematocrit) * registry["plasma_water_fraction"].to("1")


@cache
def dialyzer_koa_l_h(element: str) -> float:
    """The reference dialyzer's KoA for `element` (``Mg``, ``Ca``, ``P``), L/h.

    The phosphate KoA is Michaels' formula solved for the measured phosphate clearance at the
    reference flows; Mg and Ca scale it by their diffusion coefficients relative to HPO₄²⁻
    (KoA taken proportional to free diffusivity: an assumption, docs/dialysis.md#the-dialyzer).

    >>> round(dialyzer_koa_l_h("P") / 0.06, 0)  # mL/min
    463.0
    """
    registry = parameters()
    koa_ml_min = koa_from_clearance(
        registry["dialyzer_phosphate_clearance_reference_ml_min"].to("mL/min"),
        _reference_plasma_flow_ml_min(),
        registry["dialysis_dialysate_flow_reference_ml_min"].to("mL/min"),
    )
    (found,) = (e for e in ELEMENTS if e.element == element)
    scale = registry[found.diffusion].to("m**2/s") / registry[_PHOSPHATE.diffusion].to("m**2/s")
    return float(quantity(koa_ml_min * scale, "mL/min").to("L/h").magnitude)


def _parameters(elements: tuple[DialyzedElement, ...]) -> tuple[Param, ...]:
    table = (
        (SWITCH, "1", "dialysis_switch_off"),
        ("blood_flow_l_h", "L/h", "dialysis_blood_flow_reference_ml_min"),
        ("dialysate_flow_l_h", "L/h", "dialysis_dialysate_flow_reference_ml_min"),
        ("hematocrit", "1", "hematocrit_hemodialysis_reference"),
        ("plasma_water_fraction", "1", "plasma_water_fraction"),
        (ULTRAFILTRATION, "L/h", "dialysis_idle_flow_l_h"),
        (SUBSTITUTION, "L/h", "dialysis_idle_flow_l_h"),
        (FLUID_GAIN, "L/h", "interdialytic_fluid_gain_reference_l_d"),
    )
    own = tuple(Param(name, unit, registry=entry) for name, unit, entry in table)
    fractions = tuple(
        Param(
            e.dialyzable,
            "1",
            value=reference_dialyzable_fraction(e.element),
            description=(
                f"dialyzable fraction of plasma {e.element} (ionized plus small-ligand "
                "complexes, per patient from mgckd.chemistry; the reference hemodialysis plasma "
                "by default)"
            ),
        )
        for e in elements
        if e.chemistry
    )
    per_element = tuple(
        p
        for e in elements
        for p in (
            Param(e.dialysate, "mmol/L", registry=e.dialysate_default),
            Param(
                e.koa,
                "L/h",
                value=dialyzer_koa_l_h(e.element),
                description=(
                    f"dialyzer KoA for {e.element}: the phosphate KoA (Michaels' formula solved "
                    "for the measured phosphate clearance) scaled by diffusivity"
                ),
            ),
        )
    )
    return own + fractions + per_element


def _rules(elements: tuple[DialyzedElement, ...], volume: str) -> tuple[Rule, ...]:
    s = sym
    plasma_flow = s("dialyzer_plasma_water_flow_l_h")
    rules = [
        Rule(
            CURRENT_VOLUME,
            s(volume) + s(EXCESS_WATER),
            "L",
            "ECF volume now: the dry-weight volume plus the fluid gained since the last session",
            observable=True,
        ),
        Rule(
            DILUTION,
            s(volume) / s(CURRENT_VOLUME),
            "1",
            "dry-weight over current ECF volume: the factor by which the fluid gained dilutes "
            "every ECF concentration",
        ),
        Rule(
            "dialyzer_plasma_water_flow_l_h",
            s("blood_flow_l_h") * (1 - s("hematocrit")) * s("plasma_water_fraction"),
            "L/h",
            "plasma water flow through the dialyzer (the flow Mg, Ca and phosphate are cleared "
            "from; red cells are taken not to exchange during one pass)",
        ),
        Rule(
            "dialyzer_filtration_l_h",
            s(ULTRAFILTRATION) + s(SUBSTITUTION),
            "L/h",
            "convective flow across the membrane while a session runs: net ultrafiltration plus "
            "post-dilution substitution (hemodiafiltration)",
        ),
    ]
    for e in elements:
        diffusive = s(e.diffusive_clearance)
        rules += [
            Rule(
                e.diffusive_clearance,
                michaels_clearance(s(e.koa), plasma_flow, s("dialysate_flow_l_h")),
                "L/h",
                f"diffusive dialyzer clearance of dialyzable {e.element} (Michaels, "
                "countercurrent)",
            ),
            Rule(
                e.clearance,
                diffusive + s("dialyzer_filtration_l_h") * (1 - diffusive / plasma_flow),
                "L/h",
                f"dialyzer clearance of dialyzable {e.element}, diffusion plus convection: "
                "K = K_D + Q_F (1 − K_D/Q_p)",
            ),
            Rule(
                e.dialyzable_concentration,
                s(e.dialyzable) * s(e.ecf) / s(CURRENT_VOLUME),
                "mmol/L",
                f"dialyzable plasma {e.element} at the current ECF volume",
            ),
        ]
    return tuple(rules)


def _fluxes(elements: tuple[DialyzedElement, ...]) -> tuple[Flux, ...]:
    s = sym
    fluid = (
        Flux.transfer(
            "fluid_gain",
            s(FLUID_GAIN),
            source=None,
            target=EXCESS_WATER,
            description="salt and water gained between sessions (stays in the ECF)",
        ),
        Flux.transfer(
            "ultrafiltration",
            s(ULTRAFILTRATION),
            source=EXCESS_WATER,
            target=None,
            description="net ultrafiltration while a session runs",
        ),
    )
    dialyzer = tuple(
        Flux.transfer(
            e.flux,
            s(SWITCH) * s(e.clearance) * (s(e.dialyzable_concentration) - s(e.dialysate))
            + s(ULTRAFILTRATION) * s(e.dialysate),
            source=e.ecf,
            target=None,
            description=(
                f"{e.element} across the dialyzer: clearance × (dialyzable plasma − "
                "dialysate concentration), plus the ultrafiltrate at the dialysate concentration; "
                "negative when the dialysate gives"
            ),
        )
        for e in elements
    )
    return fluid + dialyzer


def _amount_rule(rule: Rule) -> bool:
    """True for a rule that is an amount (a sum of stores): it reads species as amounts."""
    return bool(quantity(1.0, rule.unit).check("[substance]"))


def _diluted(model: Model, compartment: str) -> tuple[tuple[Flux, ...], tuple[Rule, ...]]:
    """The model's fluxes and rules with every ECF amount read through the current volume:
    each ECF species s becomes s·V_dry/V_now in rates and in rules that are not amounts."""
    ecf = [s for s in model.species if s.compartment == compartment]
    seen = {sym(s.name): sym(s.name) * sym(DILUTION) for s in ecf}
    fluxes = tuple(replace(f, rate=f.rate.xreplace(seen)) for f in model.fluxes)
    rules = tuple(
        r if _amount_rule(r) else replace(r, expression=r.expression.xreplace(seen))
        for r in model.rules
    )
    return fluxes, rules


@cache
def with_dialysis(model: Model) -> Model:
    """`model` with hemodialysis: the session switch, dialyzer, ultrafiltration and fluid gain.

    Adds the parameters (switch ``dialysis_on``, flows, hematocrit, dialysate concentrations,
    dialyzable fractions of Mg and Ca, KoA per element, ultrafiltration, substitution and
    fluid-gain rates), the species
    ``ecf_excess_water_l``, one dialyzer flux per element whose ECF species exists (``mg_ecf``,
    ``ca_ecf``, ``pi_ecf``) and its clearance rules. Every ECF amount of the model is then read
    through the current ECF volume (dry volume plus excess water), so that the fluid gained
    between sessions dilutes and ultrafiltration concentrates. With the switch off and no excess
    water the model is the one given. A model that has the switch already is returned as is.

    Raises
    ------
    ModelDefinitionError
        When the model has none of the ECF species, its ECF compartment has no volume, or an
        element's plasma total (or phosphate's ultrafilterable fraction) is missing (the message
        names it).
    """
    if SWITCH in model.parameter_names:
        return model
    elements = dialyzed_elements(model)
    if not elements:
        raise ModelDefinitionError(
            f"with_dialysis: model {model.name!r} has none of the ECF species "
            f"{', '.join(e.ecf for e in ELEMENTS)}"
        )
    known = set(model.parameter_names) | set(model.rule_names)
    for e in elements:
        for needed in (e.plasma_total,) if e.chemistry else (e.dialyzable, e.plasma_total):
            if needed not in known:
                raise ModelDefinitionError(
                    f"with_dialysis: model {model.name!r} has {e.ecf} but no {needed!r} "
                    f"(parameter or rule), which the dialysis of {e.element} needs"
                )
    compartment = next(s.compartment for s in model.species if s.name == elements[0].ecf)
    volume = next(c.volume for c in model.compartments if c.name == compartment)
    if volume is None:
        raise ModelDefinitionError(
            f"with_dialysis: the compartment {compartment!r} of {elements[0].ecf} has no volume"
        )
    fluxes, rules = _diluted(model, compartment)
    return Model(
        name=model.name,
        compartments=model.compartments,
        species=(
            *model.species,
            Species(
                EXCESS_WATER,
                compartment,
                0.0,
                unit="L",
                description="fluid above dry weight in the ECF (gained between sessions)",
            ),
        ),
        parameters=(*model.parameters, *_parameters(elements)),
        fluxes=(*fluxes, *_fluxes(elements)),
        rules=(*rules, *_rules(elements, volume)),
        description=f"{model.description} With hemodialysis (mgckd.dialysis).",
    )
