//! A generic genetic algorithm as an iterative timely dataflow.
