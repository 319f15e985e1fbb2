//! CIFAR and ImageNet data pipelines with the augmentation and test protocols of
//! He et al. (2015), sections 3.4 and 4.2.
//!
//! Not yet implemented: this crate is the place for the loaders; see the project's issue
//! "resnet-data: CIFAR and ImageNet pipelines".
