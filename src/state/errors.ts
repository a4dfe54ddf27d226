/**
 * A write the state store refuses for the caller's reasons (a missing node, an unknown
 * session): the transaction is undone and the message goes back to the proposer as Consul
 * words it. Anything else thrown inside a write is a bug.
 */
export class StateError extends Error {}
