// The public surface of the core: the host, the worker and the CLI import from here.
export {};
