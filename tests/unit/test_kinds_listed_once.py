"""A claim kind is listed once: KINDS is the AnyClaim union's members, and the grouped kinds
(GroupedClaim) are exactly those that take a group, a count and companions, with one shared
definition of those fields."""

from __future__ import annotations

import msgspec

from starosta.events import kinds


def test_kinds_are_the_members_of_the_union_mypy_reads():
    assert kinds.KINDS == kinds.AnyClaim.__args__
    assert kinds.KIND_NAMES == tuple(k.__struct_config__.tag for k in kinds.KINDS)
    assert len(set(kinds.KIND_NAMES)) == len(kinds.KINDS) == 30  # 29: statement (issue 21); 30: derivation (issue 22)


def test_the_grouped_kinds_are_those_that_take_a_group():
    # given every kind, then those naming a `group` entity are exactly GroupedClaim's members
    # and (issue 20) GroupSubjectClaim's, which take a group and a count but no companions
    grouped, subjects = set(kinds.GroupedClaim.__args__), set(kinds.GroupSubjectClaim.__args__)
    assert {k for k in kinds.KINDS if "group" in k.REFS} == grouped | subjects
    assert not grouped & subjects
    assert kinds.GROUPED == tuple(k.__struct_config__.tag for k in kinds.GroupedClaim.__args__)
    assert kinds.GROUP_SUBJECTS == kinds.GROUPED + tuple(
        k.__struct_config__.tag for k in kinds.GroupSubjectClaim.__args__)
    for kind in subjects:
        info = {f.name: f for f in msgspec.inspect.type_info(kind).fields}
        assert info["group"].type == msgspec.inspect.type_info(kinds.GroupId | None), kind
        assert info["count"].type == msgspec.inspect.type_info(kinds.CountValue | None), kind
        assert info["person"].default is None and "with_" not in info, kind


def test_the_grouped_kinds_share_one_definition_of_group_count_and_companions():
    # given each grouped kind, then its group, count and companions are typed alike, and the
    # companions go on the wire as `with` and name persons
    for kind in kinds.GroupedClaim.__args__:
        info = {f.name: f for f in msgspec.inspect.type_info(kind).fields}
        assert info["group"].type == msgspec.inspect.type_info(kinds.GroupId | None), kind
        assert info["with_"].encode_name == "with" and info["with_"].default == ()
        assert info["count"].type == msgspec.inspect.type_info(kinds.CountValue | None), kind
        assert kind.MANY == kinds.COMPANIONS == {"with": "person"}
