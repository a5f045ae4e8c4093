package dev.panamadnn.tests.fuzz;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Findings that are known and open (issue 11), so the CI run stays green while they are fixed on
 * other branches. A case whose every finding matches an entry of its family is reported as
 * {@code KNOWN[id]} instead of {@code FINDING}; {@code --strict} turns this list off. Remove an
 * entry when its fix lands: the CI run then fails if the defect comes back.
 */
final class KnownFindings {
    /** One open defect: the families it shows in (regex on the family name) and what its finding text looks like. */
    record Known(String id, Pattern family, Pattern finding, String why) {
        Known(String id, String family, String finding, String why) {
            this(id, Pattern.compile(family), Pattern.compile(finding), why);
        }
    }

    static final List<Known> OPEN = List.of(
            // none open: add an entry (with the issue it belongs to) when a finding cannot be fixed at once
    );

    private KnownFindings() {}

    /** The id of the known defect that explains every one of {@code findings} in {@code family}, or null. */
    static String match(String family, List<String> findings) {
        String id = null;
        for (String f : findings) {
            Known hit = null;
            for (Known k : OPEN) {
                if (k.family().matcher(family).matches() && k.finding().matcher(f).find()) {
                    hit = k;
                    break;
                }
            }
            if (hit == null) return null;
            id = id == null ? hit.id() : id.equals(hit.id()) ? id : id + "+" + hit.id();
        }
        return id;
    }
}
