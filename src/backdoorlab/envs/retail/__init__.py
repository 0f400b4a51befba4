"""`retail`: a τ-bench-retail-style store (see `environment`): its world built with Faker
(`world`), its tools and their state (`tools`), and its task families (`tasks`)."""

from backdoorlab.envs.retail.environment import RetailEnvironment, retail_secrets

__all__ = ["RetailEnvironment", "retail_secrets"]
