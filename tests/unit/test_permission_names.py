"""Every action name the code checks is in the permission catalogue, found in
the source itself (ast): `require_staff("...")`, `permissions.require(..., "...")`,
an `allowed_actions(...)` test, and the constants and f-strings they are given.
A typo in an action name would otherwise be a route nobody may use, found by
the first user. And every catalogued action is checked somewhere, or is one a
menu alone shows (listed below)."""

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("layers/shared", "functions", "localcloud")
# Actions only a menu uses: the IB portal's routes are guarded by the caller's
# user type (fxcrm.ib.portal.require_ib).
MENU_ONLY = {"ib.clients", "ib.commission", "ib.profile"}
# Actions every role holds, only listed for the portals (`GET /auth/permissions`
# gives each its page): any signed-in user may change its own password.
EVERY_ROLES = {"auth.password"}
# An action built at run time: the f-string's shape and the Literal alias of
# what is put in it.
DYNAMIC = {"admin.approvals.{}": "ApprovalKind"}


def _catalogue() -> dict[str, Any]:
    (path,) = (ROOT / "layers" / "shared").rglob("permissions.json")
    return dict(json.loads(path.read_text()))


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(), str(path))


def _name(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _constants(modules: list[tuple[str, ast.Module]]) -> dict[str, tuple[str, ...]]:
    """Module-level names bound to strings, tuples of strings or Literal[...] of strings."""
    found: dict[str, tuple[str, ...]] = {}
    for _, module in modules:
        for statement in module.body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target, value = statement.targets[0], statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                target, value = statement.target, statement.value
            else:
                continue
            if isinstance(value, ast.Subscript) and _name(value.value) == "Literal":
                value = value.slice
            strings = _strings(value)
            if isinstance(target, ast.Name) and strings is not None:
                found[target.id] = strings
    return found


def _strings(node: ast.expr) -> tuple[str, ...] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        parts = [_strings(e) for e in node.elts]
        return None if any(p is None for p in parts) else tuple(s for p in parts if p for s in p)
    return None


def _values(node: ast.expr, constants: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The action names an expression can be, or AssertionError where the test cannot tell."""
    literal = _strings(node)
    if literal is not None:
        return literal
    if isinstance(node, ast.Name | ast.Attribute) and _name(node) in constants:
        return constants[_name(node)]
    if isinstance(node, ast.Call) and _name(node.func) in ("set", "frozenset", "tuple") and len(node.args) == 1:
        return _values(node.args[0], constants)
    if isinstance(node, ast.JoinedStr):
        shape = "".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values)
        assert shape in DYNAMIC, f"an action built as {shape!r}: add what fills it to DYNAMIC"
        return tuple(shape.format(part) for part in constants[DYNAMIC[shape]])
    raise AssertionError(f"an action the test cannot resolve: {ast.unparse(node)}")


def _is_allowed_actions(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and _name(node.func) == "allowed_actions"


def _checked(module: ast.Module) -> Iterator[ast.expr]:
    """The expressions this module passes where an action name is checked; a
    parameter of the enclosing function is passed through (its callers are the
    sites, as `require_staff(action)` is for the check inside it)."""
    for node, parameters in _with_parameters(module, frozenset()):
        if isinstance(node, ast.Call) and _name(node.func) == "require_staff" and node.args:
            found = node.args[0]
        elif isinstance(node, ast.Call) and _name(node.func) == "require" and len(node.args) == 2:
            found = node.args[1]  # permissions.require(principal, action)
        elif isinstance(node, ast.Compare) and any(_is_allowed_actions(c) for c in node.comparators):
            found = node.left  # action in allowed_actions(principal)
        elif isinstance(node, ast.BinOp) and (_is_allowed_actions(node.left) or _is_allowed_actions(node.right)):
            found = node.right if _is_allowed_actions(node.left) else node.left  # allowed_actions(p) & {...}
        else:
            continue
        if not (isinstance(found, ast.Name) and found.id in parameters):
            yield found


def _with_parameters(node: ast.AST, parameters: frozenset[str]) -> Iterator[tuple[ast.AST, frozenset[str]]]:
    """Every node below `node`, with the parameter names of the functions around it."""
    for child in ast.iter_child_nodes(node):
        inner = parameters
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            arguments = child.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            inner = parameters | {a.arg for a in every}
        yield child, inner
        yield from _with_parameters(child, inner)


def actions_used(modules: list[tuple[str, ast.Module]]) -> dict[str, set[str]]:
    """{action name: the files that check it}."""
    constants = _constants(modules)
    used: dict[str, set[str]] = {}
    for path, module in modules:
        for expression in _checked(module):
            for action in _values(expression, constants):
                used.setdefault(action, set()).add(path)
    return used


@pytest.fixture(scope="module")
def used() -> dict[str, set[str]]:
    return actions_used(list(_modules()))


def test_every_action_the_code_checks_is_in_the_catalogue(used: dict[str, set[str]]) -> None:
    catalogued = set(_catalogue()["actions"])
    unknown = {action: sorted(paths) for action, paths in used.items() if action not in catalogued}
    assert unknown == {}
    assert len(used) > 20  # the finder still finds the routes' checks


def test_every_catalogued_action_is_checked_or_listed_here(used: dict[str, set[str]]) -> None:
    catalogue = _catalogue()
    catalogued = set(catalogue["actions"])
    assert catalogued - set(used) == MENU_ONLY | EVERY_ROLES
    in_menus = {menu["action"] for menu in catalogue["menus"]}
    assert in_menus >= MENU_ONLY
    for role, actions in catalogue["roles"].items():
        assert set(actions) >= EVERY_ROLES, role


def test_roles_and_menus_name_catalogued_actions_only() -> None:
    catalogue = _catalogue()
    catalogued = set(catalogue["actions"])
    granted = {action for actions in catalogue["roles"].values() for action in actions}
    assert granted - catalogued == set()
    assert {m["action"] for m in catalogue["menus"] if m["action"]} - catalogued == set()


@pytest.mark.parametrize(
    "source",
    [
        'x = Depends(require_staff("admin.aprovals.view"))',
        'permissions.require(staff, "admin.aprovals.view")',
        'ACTION = "admin.aprovals.view"\nif ACTION not in permissions.allowed_actions(staff): pass',
        'NEEDED = ("admin.aprovals.view",)\nok = allowed_actions(staff) & set(NEEDED)',
        'def check(staff):\n    permissions.require(staff, "admin.aprovals.view")',
    ],
)
def test_a_misspelt_action_is_found(source: str) -> None:
    assert actions_used([("example.py", ast.parse(source))]) == {"admin.aprovals.view": {"example.py"}}


def test_an_action_the_test_cannot_resolve_fails_it() -> None:
    with pytest.raises(AssertionError, match="cannot resolve"):
        actions_used([("example.py", ast.parse("permissions.require(staff, pick_one())"))])
    with pytest.raises(AssertionError, match="add what fills it to DYNAMIC"):
        actions_used([("example.py", ast.parse('permissions.require(staff, f"admin.{kind}")'))])


def test_a_parameter_passed_on_is_checked_where_it_is_given() -> None:
    source = 'def require_staff(action):\n    permissions.require(p, action)\nrequire_staff("admin.aprovals.view")'
    assert actions_used([("example.py", ast.parse(source))]) == {"admin.aprovals.view": {"example.py"}}
