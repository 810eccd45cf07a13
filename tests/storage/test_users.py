import pytest

from accord.domain.errors import NotFound
from accord.storage.repositories.users import ProjectRepository, UserRepository


def test_user_round_trip_and_projects_stay_with_their_owner(db, user_id):
    with db.session() as s:
        user = UserRepository(s).get(user_id)
        project = ProjectRepository(s).create(user_id=user_id, name="Launch")
        other = UserRepository(s).create(email=f"other-{user_id}@example.test", display_name="O")

    assert user.display_name == "Test User"
    with db.session() as s:
        assert [p.name for p in ProjectRepository(s).list(user_id=user_id)] == ["Launch"]
        with pytest.raises(NotFound):
            ProjectRepository(s).get(project.id, user_id=other.id)
