// Package deploy holds no Go code: it is the home of the deployment artifacts (the agent image in
// agent/, the controller image in Dockerfile, the Terraform modules in terraform/, the Helm chart
// in helm/adofleet, the Grafana dashboard in grafana/) and of the tests that check them without
// Docker, Terraform or a cluster: shellcheck on every shell script of the repository, the agent
// entrypoint run against the ADO simulator with a stub agent, a lint of both Dockerfiles, a static
// check of the Terraform module with the HCL parser, helm lint and helm template with the rendered
// objects decoded into the Kubernetes API types, and the dashboard's queries checked against the
// metrics the code defines.
package deploy
