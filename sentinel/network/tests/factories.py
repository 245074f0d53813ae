"""Detector parameter versions for the network tests, made and put in force through the
governance services, as officers do."""

from __future__ import annotations

from rules.tests.factories import officer
from sentinel.network import governance, runtime
from sentinel.network.models import ParametersInForce, ParameterVersion


def parameter_values(**overrides) -> dict[str, object]:
    """The version in force's values, some changed."""
    return {**ParametersInForce.objects.get(pk=1).version.values(), **overrides}


def parameter_version(*, author=None, comment: str = "Tuning", **overrides) -> ParameterVersion:
    """A draft version: the one in force with ``overrides``."""
    return governance.parameter_version_create(
        author=author or officer(), comment=comment, **parameter_values(**overrides)
    )


def parameters_in_force(**overrides) -> ParameterVersion:
    """A version drafted, asked for and approved by three different officers: in force (this
    process reloads at once: the test's transaction never commits to move the generation)."""
    version = parameter_version(**overrides)
    change = governance.parameter_change_request(version=version, actor=officer())
    governance.parameter_change_approve(change=change, approver=officer())
    runtime.forget()
    return version
