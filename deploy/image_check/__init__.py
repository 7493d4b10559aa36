"""The image check (`.ci/images`): each service's image, built from its Dockerfile, started and exercised through
HTTP on the embedded backend (one data volume shared by both images) and on DynamoDB/S3 (a moto server)."""
