import { ConsulError } from "../../lib/errors.ts";
import { packValue } from "../commands.ts";
import type { QueryMeta, QueryOptions } from "../query.ts";
import type { Server } from "../server.ts";
import { NONVOTER, readArchive, type SnapshotMeta, snapshotId, VOTER, writeArchive } from "../snapshot-archive.ts";
import { queryMeta } from "./read.ts";

// The Snapshot endpoint (Consul's dispatchSnapshotRequest): save answers an archive of the
// whole state, taken on the leader after a consistent read unless ?stale; restore verifies an
// archive and replaces the state on every server through the log. Archives travel whole in
// one RPC frame (rpc/protocol.ts bounds it), where Consul streams them over a connection of
// their own.

export class SnapshotEndpoint {
  constructor(private readonly server: Server) {}

  async save(q: QueryOptions): Promise<{ meta: QueryMeta; archive: Uint8Array }> {
    if (q.consistency !== "stale") await this.server.readBarrier("consistent");
    const s = await this.server.captureState();
    const now = Date.now();
    const meta: SnapshotMeta = {
      Version: 1,
      ID: snapshotId(s.term, s.index, now),
      Index: s.index,
      Term: s.term,
      // hashicorp/raft's legacy peer list: the voters' addresses, msgpack-encoded.
      Peers: Buffer.from(packValue(s.servers.filter((v) => v.voter).map((v) => v.address))).toString("base64"),
      Configuration: { Servers: s.servers.map((v) => ({ Suffrage: v.voter ? VOTER : NONVOTER, ID: v.id, Address: v.address })) },
      ConfigurationIndex: 0,
      Size: s.state.length,
    };
    return { meta: queryMeta(this.server, s.index, q), archive: writeArchive(meta, s.state, now) };
  }

  async restore(archive: Uint8Array, q: QueryOptions): Promise<void> {
    if (q.consistency === "stale") throw new ConsulError(500, "stale not allowed for restore");
    let state: Uint8Array;
    try {
      ({ state } = readArchive(archive));
    } catch (err) {
      throw new ConsulError(500, (err as Error).message);
    }
    await this.server.restoreState(state);
  }
}
