"""What Knative routes, planned without the API: the split, Knative's rules, the new
revision's template, the equivalent kn command."""
