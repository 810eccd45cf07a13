"""Function tools: a three-agent team that prices an order with plain Python functions.

`@accord.tool` makes a function (sync or async) a tool: the model sees its name, its
docstring and a JSON schema of its parameters; arguments are validated against the type
hints; an exception reaches the model as the tool's error. Calls are durable like any tool
call (a call recorded before a crash is not made again when the run resumes), show up as
`tool.called` events, and one marked `require_approval` waits for a decision: here the
script approves it from the stream of events. Run it:  python examples/python/function_tools.py
"""

import asyncio

import accord

PRICES = {"widget": 12.5, "gadget": 40.0}


@accord.tool
def lookup_price(product: str) -> float:
    """The unit price of a product, in euros.

    Args:
        product: The product's name, e.g. "widget".
    """
    if product not in PRICES:
        raise KeyError(f"no product {product!r}; known: {', '.join(PRICES)}")
    return PRICES[product]


@accord.tool(require_approval=True)
async def reserve_stock(product: str, quantity: int = 1) -> str:
    """Reserve items in the warehouse for this order (needs a person's approval).

    Args:
        product: The product's name.
        quantity: How many items to reserve.
    """
    return f"reserved {quantity} x {product}"


sales = accord.Agent(
    name="Sam", role="sales analyst", skills=["pricing", "quotes"], tools=[lookup_price]
)
ops = accord.Agent(
    name="Olu", role="operations", skills=["stock", "warehouse"], tools=[reserve_stock]
)
lead = accord.Agent(name="Lee", role="account lead", skills=["writing", "customers"])

workflow = accord.Workflow(
    name="Order quote",
    description="Price an order, reserve its stock and write the quote.",
    agents=[sales, ops, lead],
    coordinator=lead,
    steps=[
        accord.Step(
            id="price",
            name="Lookup price",
            type="analysis",
            agent=sales,
            instructions="Look up the price of the product in the inputs.",
        ),
        accord.Step(
            id="reserve",
            name="Reserve stock",
            agent=ops,
            depends_on=["price"],
            instructions="Reserve the stock the order needs.",
        ),
        accord.Step(
            id="quote",
            name="Write the quote",
            type="documentation",
            agent=lead,
            depends_on=["reserve"],
            instructions="Write the customer's quote from the price and the reservation.",
        ),
    ],
)


async def main() -> None:
    calls = 0
    async with workflow.stream(inputs={"product": "widget", "quantity": 3}) as run:
        async for event in run:
            if event.kind == "approval.requested":
                print(f"approving {event.data['server']}.{event.data['tool']}")
                await run.approve(event.data["approvalId"], reason="stock is available")
            elif event.kind == "tool.called":
                data = event.data
                calls += 1
                print(f"{data['agentName']} called {data['tool']}: {data['resultExcerpt']}")
    assert run.result is not None
    print(f"{run.result.status}; {calls} function tool calls")
    print(run.result.deliverable)


if __name__ == "__main__":
    asyncio.run(main())
