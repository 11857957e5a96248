"""A person's name as the user item keeps it and as the name filters match it."""

from fxcrm.core.caller import full_name, name_matches, person_name


def test_the_given_full_name_is_shown_and_its_words_are_matched() -> None:
    name = person_name("  José ", "García  López", "José  García López")
    assert (name["first_name"], name["last_name"], name["full_name"]) == ("José", "García López", "José García López")
    assert name["name_search"] == "jose garcia lopez"
    assert full_name(name) == "José García López"
    for typed in ("garc", "JOSÉ LÓP", "lopez jose", "  gar  ", ""):
        assert name_matches(name, typed), typed
    assert not name_matches(name, "josefina")
    assert not name_matches(name, "jose smith")


def test_without_a_full_name_first_and_last_are_the_name() -> None:
    name = person_name("Zoë", "Ångström")
    assert name["full_name"] == "Zoë Ångström" and name["name_search"] == "zoe angstrom"
    # a user stored before name_search existed is matched on its shown name
    assert name_matches({"first_name": "Ada", "last_name": "Moreno"}, "MOR")
    assert not name_matches({"email": "someone@example.com"}, "someone")
