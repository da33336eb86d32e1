"""VENTRA's own load test, run by drills beside its ledger load as background traffic."""

from locust import HttpUser, constant, task


class ApiUser(HttpUser):
    wait_time = constant(0.2)

    @task
    def health(self) -> None:
        self.client.get("/api/v1/health")
