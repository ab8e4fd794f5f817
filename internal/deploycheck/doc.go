// Package deploycheck holds no code, only tests: they parse the deployment
// files (Dockerfile, .dockerignore, docker-compose.yml, deploy/k8s/*.yaml,
// deploy/temporal/dynamicconfig.yaml) and check them against the code, so a
// renamed environment variable, a new search attribute or a changed listen
// port cannot leave them silently wrong. There is no Docker or Kubernetes on
// CI: the checks are static.
//
// What they hold the files to:
//   - every environment variable a leadflow container is given is one that
//     internal/config reads (config.Vars), and the resulting settings pass
//     config.FromLookup (plus ForServe / ForWorker for those processes);
//   - the compose admin-tools job registers exactly lead.SearchAttributeTypes;
//   - published and probed ports are the ones LEADFLOW_HTTP_ADDR and
//     LEADFLOW_METRICS_ADDR listen on;
//   - every command runs `worker` or a real `starter` subcommand;
//   - files that commands and settings name (policy, directory, Temporal
//     dynamic config) exist in the image, a mount or the repository.
//
// Each check is a function returning the problems it found; the tests run
// them on the real files (expecting none) and on deliberately broken copies
// (expecting the mistake to be reported).
package deploycheck
