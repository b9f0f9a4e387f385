"""The official Python MCP SDK as a client of CodeBuddy, for test/interop.

Runs one session (Streamable HTTP or stdio, in the era `--mode` names: `legacy` for the
2025-11-25 handshake, `2026-07-28` for the modern protocol) through the calls the tests
assert on, then ends it the SDK's own way (over HTTP: its DELETE). Prints one JSON object:
what each step answered, and every HTTP exchange it saw (method and status).
"""

import argparse
import asyncio
import json
import sys

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError


def error_of(exc: BaseException) -> dict:
    if isinstance(exc, MCPError):
        return {"code": exc.error.code, "message": exc.error.message}
    return {"exception": type(exc).__name__, "message": str(exc)}


def text_of(result) -> str:
    return "\n".join(block.text for block in result.content if getattr(block, "type", None) == "text")


async def run(args: argparse.Namespace) -> dict:
    exchanges: list[dict] = []
    report: dict = {"exchanges": exchanges}

    async def record(response: httpx2.Response) -> None:
        exchanges.append({"method": response.request.method, "status": response.status_code, "session": response.headers.get("mcp-session-id")})

    if args.url:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {args.token}"})
        http.event_hooks["response"].append(record)
        target = streamable_http_client(args.url, http_client=http)
    else:
        target = StdioServerParameters(command=args.stdio[0], args=args.stdio[1:], env={"CODEBUDDY_LOG_LEVEL": "warn", **json.loads(args.env)})

    async with Client(target, mode=args.mode, cache=None) as client:
        report["protocol_version"] = client.protocol_version
        tools = (await client.list_tools()).tools
        report["tools"] = [{"name": tool.name, "title": tool.title} for tool in tools]
        created = await client.call_tool("workspace_create", {"name": args.workspace})
        report["workspace_create"] = {"is_error": created.is_error, "text": text_of(created)}
        wrote = await client.call_tool("file_write", {"path": "hello.txt", "content": "from python\n", "workspace": args.workspace})
        report["file_write"] = {"is_error": wrote.is_error, "structured": wrote.structured_content}
        read = await client.call_tool("file_read", {"path": "hello.txt", "workspace": args.workspace})
        report["file_read"] = {"is_error": read.is_error, "text": text_of(read)}
        try:
            await client.call_tool("no_such_tool", {})
            report["unknown_tool"] = {"answered": "a result"}
        except Exception as exc:  # noqa: BLE001 - the error is what is reported
            report["unknown_tool"] = error_of(exc)
        try:
            await client.list_tools(cursor="not-a-cursor", cache_mode="bypass")
            report["bad_cursor"] = {"answered": "a list"}
        except Exception as exc:  # noqa: BLE001
            report["bad_cursor"] = error_of(exc)
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--token", default="")
    parser.add_argument("--mode", default="legacy")
    parser.add_argument("--workspace", default="py")
    parser.add_argument("--env", default="{}", help="JSON: extra environment for a stdio server")
    parser.add_argument("stdio", nargs="*", help="command and arguments of a stdio server")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
