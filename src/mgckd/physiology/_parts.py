"""Building blocks shared by the modules of the whole-body model: a module's declarations
(`Part`), registry-backed parameters, first-order exchange with the ECF, and assembly."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sympy

from mgckd.model import Compartment, Flux, Model, Param, Rule, Species, sym


@dataclass(frozen=True)
class Part:
    """The declarations one module contributes to a model (assembled with `assemble`)."""

    species: tuple[Species, ...] = ()
    parameters: tuple[Param, ...] = ()
    fluxes: tuple[Flux, ...] = ()
    rules: tuple[Rule, ...] = ()


COMPARTMENTS = (
    Compartment("gut_lumen", None, "absorptive gut lumen"),
    Compartment("ecf", "ecf_volume_l", "extracellular fluid (plasma-equivalent)"),
    Compartment("cells", None, "intracellular space"),
    Compartment("bone", None, "bone mineral"),
)


def registry_parameters(table: Iterable[tuple[str, str, str]]) -> tuple[Param, ...]:
    """Parameters read from the registry, given as (model name, model unit, registry name)."""
    return tuple(Param(name, unit, registry=entry) for name, unit, entry in table)


def exchange(
    pool: str, ecf: str, *, reference: sympy.Expr, half_life: str, description: str
) -> tuple[Flux, Flux]:
    """First-order exchange between the ECF species `ecf` and `pool`: release `k·pool`, uptake
    `k·(pool_ref/ecf_ref)·ecf` with `k = ln 2 / t½`, so the two balance at the reference state.

    `reference` is the expression pool_ref / ecf_ref (the partition at equilibrium).
    """
    rate = sympy.log(2) / sym(half_life)
    return (
        Flux.transfer(
            f"{pool}_uptake",
            rate * reference * sym(ecf),
            source=ecf,
            target=pool,
            description=f"{description}: uptake from the ECF",
        ),
        Flux.transfer(
            f"{pool}_release",
            rate * sym(pool),
            source=pool,
            target=ecf,
            description=f"{description}: release to the ECF",
        ),
    )


def assemble(name: str, description: str, *parts: Part) -> Model:
    """One `Model` from the parts (the model checks that no name is declared twice)."""
    return Model(
        name=name,
        compartments=COMPARTMENTS,
        species=tuple(s for part in parts for s in part.species),
        parameters=tuple(p for part in parts for p in part.parameters),
        fluxes=tuple(f for part in parts for f in part.fluxes),
        rules=tuple(r for part in parts for r in part.rules),
        description=description,
    )
