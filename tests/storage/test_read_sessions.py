import threading
import time

from accord.storage.repositories.users import UserRepository


def test_a_read_does_not_wait_for_a_writer_holding_the_database(db, user_id):
    writing = threading.Event()
    release = threading.Event()

    def writer() -> None:
        with db.session() as s:
            UserRepository(s).rename(user_id, "Renamed")
            writing.set()
            release.wait(5)

    thread = threading.Thread(target=writer)
    thread.start()
    assert writing.wait(5)
    try:
        started = time.monotonic()
        with db.read_session() as s:
            name = UserRepository(s).get(user_id).display_name
        waited = time.monotonic() - started
    finally:
        release.set()
        thread.join()

    assert name == "Test User"  # the committed state, not the writer's open change
    assert waited < 4  # it did not wait for the writer, who held on for up to 5 s
    with db.read_session() as s:
        assert UserRepository(s).get(user_id).display_name == "Renamed"
