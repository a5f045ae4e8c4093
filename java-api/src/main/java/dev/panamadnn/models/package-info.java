/**
 * Whole models built from the layers of {@link dev.panamadnn.nn}, with PyTorch / torchvision
 * {@code state_dict} names so that a checkpoint exported to {@code .safetensors} loads strictly
 * with {@link dev.panamadnn.SafeTensors#load(dev.panamadnn.Module, java.nio.file.Path)}.
 * {@link dev.panamadnn.models.ResNets}: torchvision's ResNet-18/34/50 (eager inference).
 */
package dev.panamadnn.models;
