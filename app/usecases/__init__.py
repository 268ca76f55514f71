"""Use cases that span the layers below, each one function every front end calls (the API,
the command line and, through the API, the UI): a front end only parses, calls and renders."""
