"""AutoDevOps: analyze a repository and generate the CI/CD pipeline it needs."""

__version__ = "0.1.0"
