/** A consumer of Panama DNN on the module path. */
module com.example.consumer {
    requires dev.panamadnn;
}
