// Package deploy holds no Go code: it is the home of the deployment artifacts (the agent image in
// agent/, the Terraform modules in terraform/) and of the tests that check them without Docker or
// Terraform: shellcheck on every shell script of the repository, the agent entrypoint run against
// the ADO simulator with a stub agent, a lint of the Dockerfile, and a static check of the
// Terraform module with the HCL parser.
package deploy
