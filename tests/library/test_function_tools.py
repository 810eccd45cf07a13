"""`@accord.tool`: a plain function as a tool, as a model meets it."""

from typing import Any

from pydantic_ai import Agent as ModelAgent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from accord.library.function_tools import tool

calls: list[tuple[str, int]] = []


@tool
def price(sku: str, quantity: int = 1) -> float:
    """The price of an order line, in euros.

    Args:
        sku: The item's stock-keeping unit.
        quantity: How many items.
    """
    calls.append((sku, quantity))
    if sku == "gone":
        raise LookupError(f"no item {sku!r}")
    return 2.5 * quantity


@tool(name="stock", description="Items in stock.")
async def stock_level(sku: str) -> int:
    return 7


def test_the_schema_comes_from_the_signature_and_the_docstring():
    assert (price.name, price.description) == ("price", "The price of an order line, in euros.")
    assert price.json_schema == {
        "additionalProperties": False,
        "properties": {
            "sku": {"description": "The item's stock-keeping unit.", "type": "string"},
            "quantity": {"default": 1, "description": "How many items.", "type": "integer"},
        },
        "required": ["sku"],
        "type": "object",
    }
    assert (stock_level.name, stock_level.description) == ("stock", "Items in stock.")
    assert price("a", quantity=2) == 5.0  # still the function


def scripted(*arguments: dict[str, Any]) -> FunctionModel:
    """A model that calls `price` with each of `arguments` in turn, then answers."""
    pending = list(arguments)

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if pending:
            return ModelResponse(parts=[ToolCallPart("price", pending.pop(0))])
        return ModelResponse(parts=[TextPart("done")])

    return FunctionModel(respond)


def tool_returns(messages: list[ModelMessage]) -> list[str]:
    return [
        str(part.content)
        for message in messages
        for part in message.parts
        if isinstance(part, ToolReturnPart)
    ]


async def test_arguments_are_validated_and_errors_reach_the_model_as_the_tools_answer():
    calls.clear()
    agent = ModelAgent(
        scripted({"sku": "a", "quantity": "many"}, {"sku": "gone"}, {"sku": "b", "quantity": 2}),
        tools=[price.as_pydantic_ai_tool(), stock_level.as_pydantic_ai_tool()],
    )
    result = await agent.run("price things")
    assert result.output == "done"
    assert calls == [("gone", 1), ("b", 2)]  # "many" never reached the function
    returns = tool_returns(result.all_messages())
    assert "int_parsing" in returns[0] and "quantity" in returns[0]  # the model is told why
    assert returns[1:] == ["LookupError: no item 'gone'", "5.0"]
