// What go test ./e2e/ passes the node tests: each setting is an
// environment variable, and a missing one means the test was run by hand.
export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this through go test ./e2e/`);
  return v;
};
