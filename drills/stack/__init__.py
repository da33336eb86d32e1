"""The stack: the services under drill and how to reach them, on any runtime."""

from drills.stack.service import Endpoint, Service
from drills.stack.stack import Stack

__all__ = ["Endpoint", "Service", "Stack"]
