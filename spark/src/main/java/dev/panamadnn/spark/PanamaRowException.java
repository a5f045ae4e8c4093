package dev.panamadnn.spark;

/**
 * A row the model cannot score (null, wrong length, a non-finite value, an image that does not
 * decode), when the transformer has no error column: fails the task, and so the job, with a
 * message naming the row's position in its partition and the partition.
 */
public final class PanamaRowException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final long row;
    private final int partition;

    PanamaRowException(long row, int partition, String problem) {
        super("PanamaModel: row " + row + " of partition " + partition + ": " + problem);
        this.row = row;
        this.partition = partition;
    }

    /** The row's position in its partition, from 0. */
    public long row() {
        return row;
    }

    /** The partition's index ({@code -1} outside a Spark task). */
    public int partition() {
        return partition;
    }
}
