"""The capsule network of Sabour, Frosst & Hinton (2017): what it computes, how it is trained."""
