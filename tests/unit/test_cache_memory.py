"""What a worker process remembers of its state-cache writes, so its follower need not redo them."""

from __future__ import annotations

from dockfleet.models import ContainerInfo
from worker.process.cache_memory import CacheMemory


def info(container_id: str, status: str = "running") -> ContainerInfo:
    return ContainerInfo(id=container_id, name=container_id, host="h", image="i", status=status)


def test_only_writes_the_cache_applied_are_remembered() -> None:
    memory = CacheMemory()
    memory.wrote(info("a"), applied=True, generation=memory.generation())
    memory.wrote(info("b"), applied=True, generation=memory.generation())
    # a refused write: the cache holds something newer than anything known here
    memory.wrote(info("b", "exited"), applied=False, generation=memory.generation())
    assert memory.last("a") == info("a")
    assert memory.last("b") is None


def test_a_resync_forgets_every_write_even_one_that_raced_it() -> None:
    memory = CacheMemory()
    memory.wrote(info("a"), applied=True, generation=memory.generation())
    before = memory.generation()
    memory.forget_all()
    memory.wrote(info("b"), applied=True, generation=before)  # landed before the merge
    assert (memory.last("a"), memory.last("b")) == (None, None)


def test_a_dropped_container_stays_gone() -> None:
    memory = CacheMemory()
    memory.wrote(info("a"), applied=True, generation=memory.generation())
    memory.dropped("a")
    assert memory.is_dropped("a") and memory.last("a") is None
    assert not memory.is_dropped("b")


def test_a_destroy_during_a_removal_is_left_to_the_remover() -> None:
    memory = CacheMemory()
    # Given no removal under way, the follower drops for a "destroy" itself
    assert not memory.leave_drop_to_remover("a")
    assert not memory.removal_ends("a")
    # When the event comes while this process removes the container
    memory.removal_begins("a")
    assert memory.leave_drop_to_remover("a")
    # Then the remover learns it must drop, even if the engine's answer failed
    assert memory.removal_ends("a")
    assert not memory.leave_drop_to_remover("a")


def test_the_memory_is_bounded() -> None:
    memory = CacheMemory(capacity=2)
    for name in "abc":
        memory.wrote(info(name), applied=True, generation=memory.generation())
    assert [memory.last(n) is not None for n in "abc"] == [False, True, True]
