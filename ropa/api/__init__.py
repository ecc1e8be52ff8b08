"""The GraphQL API: strawberry types, inputs, loaders and the schema. It calls services only."""
