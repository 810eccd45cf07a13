"""Test doubles shipped with the package: a scripted model and fake vendor HTTP servers."""

from accord.llm.testing.behaviours import strong_responder, weak_responder
from accord.llm.testing.fake_anthropic import FakeAnthropicServer
from accord.llm.testing.fake_openai import FakeOpenAIServer
from accord.llm.testing.offline_responder import offline_responder
from accord.llm.testing.script import Fault, Reply, ToolCall
from accord.llm.testing.scripted import ScriptedModel, ScriptedRequest, ScriptExhausted

__all__ = [
    "FakeAnthropicServer",
    "FakeOpenAIServer",
    "Fault",
    "Reply",
    "ScriptExhausted",
    "ScriptedModel",
    "ScriptedRequest",
    "ToolCall",
    "offline_responder",
    "strong_responder",
    "weak_responder",
]
