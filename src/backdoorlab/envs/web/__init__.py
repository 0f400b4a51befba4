"""`web`: a WebArena-style browsing environment (see `environment`): four in-process sites
(`sites`, over the Faker-built `world`), pages as HTML (`pages`) read as accessibility
trees (`axtree`), the browser's actions (`browser`) and the task families (`tasks`)."""

from backdoorlab.envs.web.environment import WebEnvironment, web_secrets

__all__ = ["WebEnvironment", "web_secrets"]
