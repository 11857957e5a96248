"""The baseline for the cold-start benchmark: FastAPI + Mangum + boto3, nothing else."""

import boto3
from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()
dynamodb = boto3.session.Session().client  # bound, not called: clients are made on first use in fxcrm too


@app.get("/hello")
def hello() -> dict[str, str]:
    return {"message": "hello"}


handler = Mangum(app, lifespan="off")
