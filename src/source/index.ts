/** The Source interface: immutable snapshots of the roster files, and a signal when they may have changed. */

export interface Snapshot {
  /** Commit SHA (git) or a hash of the files' contents (dir). */
  readonly revision: string;
  /** Roster file path (as shown to users) → bytes. */
  readonly files: ReadonlyMap<string, Buffer>;
  /**
   * Roster paths the source refuses to read, each with why in plain words (a link leading
   * outside the folder, a folder or submodule named *.yaml, a file over the size cap, a name
   * that is not UTF-8). Each is a file-level error for that path, so what it deployed stays.
   */
  readonly problems: ReadonlyMap<string, string>;
}

export interface Source {
  /** Human-readable origin, for logs and status. */
  readonly description: string;
  /** The files as they are now. Throws when they cannot be read; nothing is changed then. */
  snapshot(): Promise<Snapshot>;
  /** Calls `onChange` when the files may have changed; returns a function that stops watching. */
  watch(onChange: () => void): () => void;
}
