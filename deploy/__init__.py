"""Deployment: the services' Dockerfiles, compose, IAM policies, and the check that builds and runs the images."""
