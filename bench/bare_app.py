"""The baseline for bench/api.py: a bare FastAPI endpoint that only parses the same body."""

from typing import Any

from fastapi import FastAPI

from onewindow.declarations.schemas import DeclarationCreate

app = FastAPI()


@app.post("/bare", status_code=201)
def bare(body: DeclarationCreate) -> dict[str, Any]:
    return {"ok": True}
