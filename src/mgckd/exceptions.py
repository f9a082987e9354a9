"""Every exception mgckd raises on purpose.

`MgckdError` is the root. `UserInputError` and its children mean the caller gave something
wrong (a unit, a value, a file); the CLI turns them into one line on stderr and exit code 2.
Anything else that escapes is a bug in mgckd (exit code 1). Warnings derive from `MgckdWarning`.
"""

from __future__ import annotations


class MgckdError(Exception):
    """Root of every exception raised by mgckd on purpose."""


class UserInputError(MgckdError, ValueError):
    """The caller's input is wrong; the message names the field, the value and what is accepted."""


class UnitError(UserInputError):
    """A unit is unknown, or does not fit the analyte it is attached to."""


class ImplausibleValueError(UserInputError):
    """A value lies outside the hard plausibility limits of its analyte."""


class InputFileError(UserInputError):
    """An input file (JSON, CSV, Parquet, FHIR bundle, YAML) cannot be read as asked."""


class MissingColumnError(InputFileError):
    """A table lacks a column an analysis needs (the message names it and what is there)."""


class TooFewEventsError(UserInputError):
    """An outcome has too few events (or non-events) for the model asked of it."""


class OutsidePopulationError(UserInputError):
    """A published effect size was asked of a patient outside the population it was published
    for (e.g. a hemodialysis odds ratio for a patient not on dialysis); the message names the
    patient, the population and the effect."""


class SeparationError(UserInputError):
    """A logistic or Cox model cannot be estimated: the outcome is (quasi-)perfectly separated
    by a covariate or a category, so a ratio estimate would be infinite."""


class SpeciationError(MgckdError):
    """Plasma speciation did not converge for a sample (`mgckd.chemistry.speciate`, throw=True)."""


class ScenarioError(UserInputError):
    """A simulation scenario (a scenario file, a schedule, per-patient overrides) is wrong; the
    message names the field, the value and what is accepted."""


class NotAvailableError(UserInputError):
    """A cohort or trial asks for a part of mgckd that is not built yet (an endpoint, an arm's
    treatment, a model): the message names the part and the package or issue that brings it."""


class ModelDefinitionError(MgckdError):
    """A declarative model (`mgckd.model.Model`) is inconsistent: an unknown symbol, a duplicate
    name, a flux that creates or destroys an element, a cycle among rules. A bug in the model."""


class SBMLExportError(MgckdError):
    """A model, scenario or schedule holds something SBML cannot express (the message says what)."""


class SimulationError(MgckdError):
    """A simulation or steady-state solve failed for a patient (``throw=True``); the message names
    the patient, the time and the reason."""


class RegistryError(MgckdError):
    """A shipped data file (parameters, claims, analytes) is malformed: a bug in mgckd's data."""


class MgckdWarning(UserWarning):
    """Root of every warning mgckd issues."""


class SkippedObservationWarning(MgckdWarning):
    """An Observation of a FHIR Bundle was left out: voided, censored, not an analyte mgckd
    reads, without a numeric value, or superseded by a later result of the same analyte."""
